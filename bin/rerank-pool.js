#!/usr/bin/env node
// Thin launcher: the CLI lives in apps/cli and is compiled by `npm run build`.
import { main } from '@rerank-pool/cli';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`rerank-pool: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
