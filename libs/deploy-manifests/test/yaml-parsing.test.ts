import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deploymentYamlFiles, readYamlDocuments, repoRoot } from '../src/index.js';

describe('when reading every deployment YAML file', () => {
  const files = deploymentYamlFiles();

  it('should find compose, infra and k8s files', () => {
    const names = files.map((file) => relative(repoRoot, file));
    expect(names).toEqual(
      expect.arrayContaining(['docker-compose.yml', 'infra/prometheus/prometheus.yml', 'infra/otel-collector/config.yaml', 'k8s/base/kustomization.yaml']),
    );
  });

  it.each(files.map((file) => [relative(repoRoot, file), file]))('should parse %s', (_name, file) => {
    const documents = readYamlDocuments(file);
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) expect(document).toBeTypeOf('object');
  });

  it('should reject a file with a syntax error, naming it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'deploy-yaml-')), 'broken.yaml');
    writeFileSync(file, 'a: [1, 2\nb: 3\n');
    expect(() => readYamlDocuments(file)).toThrow(/broken\.yaml/);
  });
});
