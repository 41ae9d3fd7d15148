import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerfilePaths, parseDockerfile, type DockerStage } from '../src/index.js';

function lastOf(stage: DockerStage, keyword: string): string | undefined {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1)?.args;
}

describe.each(Object.entries(dockerfilePaths))('when parsing the %s Dockerfile', (_name, path) => {
  const { preamble, stages } = parseDockerfile(readFileSync(path, 'utf8'));
  const runtime = stages[stages.length - 1];
  const args = new Map(preamble.map((instruction) => instruction.args.split('=') as [string, string]));
  const image = (from: string) => from.replace(/^\$\{(\w+)\}$/, (_match, name: string) => args.get(name) ?? from);

  it('should build in one stage and run from a separate one', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => stage.name === 'build');
    expect(build?.instructions.map((instruction) => instruction.args)).toEqual(expect.arrayContaining(['npm ci --no-audit --no-fund', 'npx tsc -b && npm prune --omit=dev --no-audit --no-fund']));
    expect(runtime.instructions).toContainEqual(expect.objectContaining({ keyword: 'COPY', args: expect.stringMatching(/^--from=build /) }));
  });

  it('should run as a numeric non-root user', () => {
    const user = lastOf(runtime, 'USER');
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(user?.split(':')[0]).not.toBe('0');
  });

  it('should start the CLI with api as the default command and check the API health', () => {
    expect(JSON.parse(lastOf(runtime, 'ENTRYPOINT') ?? 'null')).toEqual(['node', 'bin/rerank-pool.js']);
    expect(JSON.parse(lastOf(runtime, 'CMD') ?? 'null')).toEqual(['api']);
    expect(lastOf(runtime, 'HEALTHCHECK')).toContain('http-probe.mjs');
  });

  it('should keep models out of the image, in the Hugging Face cache at HF_HOME', () => {
    expect(lastOf(runtime, 'ENV')).toContain('HF_HOME=/models/hf');
    expect(runtime.instructions.map((instruction) => instruction.args).join('\n')).not.toMatch(/model pull|\.onnx/);
  });

  it('should name its base images', () => {
    expect(image(stages[0].from)).toBe('node:24-bookworm-slim');
    expect(image(runtime.from)).toMatch(path.endsWith('.cuda') ? /^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/ : /^node:24-bookworm-slim$/);
  });
});

describe('when reading the CUDA image', () => {
  const { stages } = parseDockerfile(readFileSync(dockerfilePaths.cuda, 'utf8'));

  it('should install onnxruntime-node CUDA 12 libraries and select the cuda provider', () => {
    const build = stages.find((stage) => stage.name === 'build');
    expect(build?.instructions.map((instruction) => instruction.args).join('\n')).toContain('ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js');
    expect(lastOf(stages[stages.length - 1], 'ENV')).toContain('EXECUTION_PROVIDER=cuda');
  });
});

describe('when the Dockerfile parser meets bad input', () => {
  it('should reject an unknown instruction, naming the line', () => {
    expect(() => parseDockerfile('FROM node:20\nRUNN echo\n')).toThrow(/line 2: unknown instruction RUNN/);
  });

  it('should join continuation lines and skip comments inside them', () => {
    const { stages } = parseDockerfile('FROM node:20 AS a\nRUN one \\\n# note\n  && two\n');
    expect(stages[0]).toMatchObject({ name: 'a', instructions: [{ keyword: 'RUN', args: 'one && two', line: 2 }] });
  });
});
