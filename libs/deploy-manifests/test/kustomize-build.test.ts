import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kustomizeDirs, renderKustomization } from '../src/index.js';

describe('when rendering a kustomization with kubectl', () => {
  it('should say how to get kubectl when it is missing', () => {
    expect(() => renderKustomization(kustomizeDirs.cpu, { kubectl: join(tmpdir(), 'no-such-dir', 'kubectl') })).toThrow(/not found.*install kubectl/);
  });

  it("should report kustomize's error, naming the directory", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-broken-'));
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources:\n  - missing.yaml\n');
    expect(() => renderKustomization(dir)).toThrow(new RegExp(`kustomize ${dir}.*missing\\.yaml`, 's'));
  });

  it('should hand out copies, so one test changing an object cannot change another test', () => {
    const [first] = renderKustomization(kustomizeDirs.cpu);
    first.metadata.name = 'changed';
    expect(renderKustomization(kustomizeDirs.cpu)[0].metadata.name).not.toBe('changed');
  });
});
