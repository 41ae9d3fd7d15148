import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { composeFilePath } from './repo-paths.js';
import { readYamlFile } from './yaml-file.js';

export interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

export function loadComposeFile(path: string = composeFilePath): ComposeFile {
  return readYamlFile(path) as ComposeFile;
}

/** The vendored schema, beside src/ and dist/ alike (see schemas/README.md for its origin). */
const composeSchemaPath = new URL('../schemas/compose-spec.json', import.meta.url);

/**
 * The Compose Specification's JSON schema, the one Docker Compose validates with (draft 2020-12).
 * Non-strict because it uses annotation keywords Ajv does not define (`deprecated`); `format`
 * (durations like "40s") is an annotation here, as in Compose.
 */
const validateCompose = (() => {
  const schema = JSON.parse(readFileSync(composeSchemaPath, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(schema);
})();

/** Schema violations of a parsed compose file, one line each; empty when valid. */
export function composeSchemaErrors(compose: unknown): string[] {
  if (validateCompose(compose)) return [];
  return (validateCompose.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`);
}
