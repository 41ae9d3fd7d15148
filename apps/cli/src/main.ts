import { UsageError } from './cli-error.js';
import * as api from './commands/api.js';
import * as bench from './commands/bench.js';
import * as dev from './commands/dev.js';
import * as evaluate from './commands/eval.js';
import * as modelPull from './commands/model-pull.js';
import * as modelSynth from './commands/model-synth.js';
import * as score from './commands/score.js';
import * as submit from './commands/submit.js';
import * as worker from './commands/worker.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  dev: { run: dev.dev, usage: dev.usage },
  api: { run: api.api, usage: api.usage },
  'model synth': { run: modelSynth.modelSynth, usage: modelSynth.usage },
  'model pull': { run: modelPull.modelPull, usage: modelPull.usage },
  score: { run: score.score, usage: score.usage },
  submit: { run: submit.submit, usage: submit.usage },
  eval: { run: evaluate.evaluate, usage: evaluate.usage },
  bench: { run: bench.bench, usage: bench.usage },
  worker: { run: worker.worker, usage: worker.usage },
};

/** A command's usage is one line per form (e.g. `submit FILE …` and `submit --input-url …`). */
function usageLines(usage: string, first: string, rest = ' '.repeat(first.length)): string {
  return usage
    .split('\n')
    .map((line, index) => `${index === 0 ? first : rest}rerank-pool ${line}\n`)
    .join('');
}

function help(): string {
  return `usage: rerank-pool <command> [options]\n\n${Object.values(COMMANDS)
    .map((c) => usageLines(c.usage, '  '))
    .join('')}`;
}

function findCommand(argv: string[]): { name: string; rest: string[] } | undefined {
  const two = argv.slice(0, 2).join(' ');
  if (two in COMMANDS) return { name: two, rest: argv.slice(2) };
  if (argv[0] !== undefined && argv[0] in COMMANDS) return { name: argv[0], rest: argv.slice(1) };
  return undefined;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(help());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`rerank-pool: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${help()}`);
    return 2;
  }
  try {
    return await COMMANDS[found.name]!.run(found.rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`rerank-pool ${error.message}\n${usageLines(COMMANDS[found.name]!.usage, 'usage: ')}`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    process.stderr.write(`rerank-pool ${found.name}: ${(error as Error).message}${typeof code === 'string' ? ` [${code}]` : ''}\n`);
    return 1;
  }
}
