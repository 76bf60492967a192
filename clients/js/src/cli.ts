// node dist/cli.js vectors docs/encryption.md
// node dist/cli.js upload BASE_URL TOKEN CASE_ID FILE CONTENT_TYPE [--client-side]
//      [--resumable] [--suite NAME]
import { readFileSync } from "node:fs";
import { uploadDocument } from "./upload.js";
import { checkVectors } from "./vectors.js";

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "vectors") {
    console.log(JSON.stringify({ checked: await checkVectors(rest[0]) }));
    return;
  }
  if (command === "upload") {
    const [base, token, caseId, file, contentType] = rest;
    const suite = rest.includes("--suite") ? rest[rest.indexOf("--suite") + 1] : undefined;
    const document = await uploadDocument(base, token, caseId, readFileSync(file), contentType,
                                          "passport", {
      clientSide: rest.includes("--client-side"), resumable: rest.includes("--resumable"),
      suite });
    console.log(JSON.stringify(document));
    return;
  }
  throw new Error("usage: cli.js vectors FILE | upload BASE TOKEN CASE FILE TYPE [options]");
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`${error}\n`);
  process.exit(1);
});
