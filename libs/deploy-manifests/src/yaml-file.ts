import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/**
 * Every document of a YAML file as plain data. Throws naming the file on the first syntax error,
 * where `yaml.parse` would only warn about some of them. Merge keys (`<<: *anchor`) are resolved
 * the way Docker Compose resolves them.
 */
export function readYamlDocuments(path: string): unknown[] {
  return parseYamlDocuments(readFileSync(path, 'utf8'), path);
}

/** Every document of YAML text as plain data; `source` names it in errors. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const documents = parseAllDocuments(text, { merge: true, prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [documents];
  return list.map((document) => {
    const [error] = document.errors;
    if (error) throw new SyntaxError(`${source}: ${error.message}`);
    return document.toJS();
  });
}

/** The single document of a YAML file; throws when the file holds none or several. */
export function readYamlFile(path: string): unknown {
  const documents = readYamlDocuments(path);
  if (documents.length !== 1) throw new SyntaxError(`${path}: expected one YAML document, found ${documents.length}`);
  return documents[0];
}
