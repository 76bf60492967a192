// Reading a QR code from the camera: the browser's BarcodeDetector where it has one for QR
// codes, else the vendored jsQR decoder (loaded on first use, kept offline by the worker).

let jsQRReady = null;

function loadJsQR() {
  if (!jsQRReady) {
    jsQRReady = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/checkpoint/jsQR.js";
      script.onload = () => resolve(window.jsQR);
      script.onerror = () => reject(new Error("decoder unavailable"));
      document.head.append(script);
    });
  }
  return jsQRReady;
}

async function detector() {
  if ("BarcodeDetector" in window) {
    try {
      if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
        const native = new window.BarcodeDetector({ formats: ["qr_code"] });
        return { name: "BarcodeDetector", read: async (video) => (await native.detect(video))[0]?.rawValue };
      }
    } catch (error) {
      // fall through to jsQR
    }
  }
  const jsQR = await loadJsQR();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return {
    name: "jsQR",
    read: async (video) => {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      if (!canvas.width || !canvas.height) return undefined;
      context.drawImage(video, 0, 0);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      return jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" })?.data;
    },
  };
}

// Decodes one image's pixels (for a photo, or to test the decoder on a known QR code).
export async function decodePixels(data, width, height) {
  const jsQR = await loadJsQR();
  return jsQR(data, width, height)?.data ?? null;
}

export class Scanner {
  constructor(video, onToken) {
    this.video = video;
    this.onToken = onToken;
    this.stream = null;
    this.reader = null;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      // A token's QR code is dense: as many pixels as the camera gives.
      video: { facingMode: "environment", width: { ideal: 1920 }, height: { ideal: 1440 } }, audio: false });
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play();
    this.reader = await detector();
    document.body.dataset.decoder = this.reader.name;
    this.tick();
  }

  async tick() {
    if (!this.stream) return;
    let text;
    try {
      text = await this.reader.read(this.video);
    } catch (error) {
      text = undefined;
    }
    if (text) {
      this.stop();
      this.onToken(text);
      return;
    }
    setTimeout(() => this.tick(), 150);
  }

  stop() {
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.srcObject = null;
    this.video.hidden = true;
  }
}
