// Upload a file with tus-js-client (as a React Native or web app would), retrying through
// dropped connections. Usage: node tus-upload.mjs TUS_URL TOKEN FILE CHUNK_SIZE
// Prints one JSON line: {"offset", "resumed_from", "errors"}.
import { readFileSync } from "node:fs";
import { Upload } from "tus-js-client";

const [endpoint, token, file, chunkSize] = process.argv.slice(2);
const body = readFileSync(file);
let resumedFrom = 0;
let errors = 0;

const upload = new Upload(body, {
  endpoint,
  chunkSize: Number(chunkSize),
  headers: { Authorization: `Bearer ${token}` },
  retryDelays: [0, 300, 1000, 2000, 3000, 5000],
  onShouldRetry: () => { errors += 1; return true; },
  onAfterResponse: (req, res) => {
    if (req.getMethod() === "HEAD") {
      resumedFrom = Math.max(resumedFrom, Number(res.getHeader("Upload-Offset")));
    }
  },
  onError: (error) => {
    process.stderr.write(`upload failed: ${error}\n`);
    process.exit(1);
  },
  onSuccess: () => {
    process.stdout.write(JSON.stringify({ offset: upload._offset, resumed_from: resumedFrom,
                                          errors }) + "\n");
  },
});
upload.start();
