import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/main.js';
import { runCli } from './run-cli.js';

// From the CLI's own table, so a command added there is covered here without editing this file.
const commands = Object.keys(COMMANDS);

describe('when a user asks the CLI for help', () => {
  it('should know every command the design lists', () => {
    expect(commands).toEqual(expect.arrayContaining(['dev', 'api', 'worker', 'model synth', 'model pull', 'score', 'submit', 'eval', 'bench', 'config']));
  });

  it.each(commands.flatMap((command) => [[command, '--help'] as const, [command, '-h'] as const]))(
    'should print the usage and options of "%s %s" and exit 0',
    async (command, flag) => {
      const run = await runCli([...command.split(' '), flag]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`usage: rerank-pool ${command}`);
      expect(run.stdout).toContain('options:');
      expect(run.stdout).toMatch(/^ {2}-h, --help +Show this help and exit$/m);
    },
  );

  it('should list options from the parser, including ones the usage line leaves out', async () => {
    const run = await runCli(['eval', '--per-query', '--help']);
    expect(run.code, run.stderr).toBe(0);
    for (const option of ['--qrels FILE', '--run FILE', '--baseline FILE', '--k K', '--complete', '--per-query', '--json']) {
      expect(run.stdout).toContain(option);
    }
  });

  it.each([['--help'], ['-h'], ['help']])('should list every command for "%s" and exit 0', async (flag) => {
    const run = await runCli([flag]);
    expect(run.code, run.stderr).toBe(0);
    for (const command of commands) expect(run.stdout).toContain(`rerank-pool ${command}`);
    expect(run.stdout).toContain('--version');
  });

  it('should give a command\'s help for "help <command>" and a group\'s commands for "model --help"', async () => {
    const one = await runCli(['help', 'model', 'pull']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('--revision R');
    const group = await runCli(['model', '--help']);
    expect(group.code, group.stderr).toBe(0);
    expect(group.stdout).toContain('rerank-pool model synth');
    expect(group.stdout).toContain('rerank-pool model pull');
    expect(group.stdout).not.toContain('rerank-pool score');
  });

  it('should not take an option value "-h" for a help request', async () => {
    const run = await runCli(['eval', '--qrels=-h']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('--run is required');
  });
});

describe('when a user gives an option a command does not have', () => {
  it('should fail naming the option and pointing at --help', async () => {
    const run = await runCli(['bench', '--no-such-option', '--json']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('rerank-pool bench: unknown option --no-such-option');
    expect(run.stderr).toContain('usage: rerank-pool bench');
    expect(run.stderr).toContain('run "rerank-pool bench --help" for its options');
  });
});

describe('when a user asks for the version', () => {
  it.each([['--version'], ['-v']])('should print the root package.json version for "%s" and exit 0', async (flag) => {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const run = await runCli([flag]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${pkg.version}\n`);
  });
});
