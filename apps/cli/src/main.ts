import { describeOptions, HelpRequested } from './args.js';
import { UsageError } from './cli-error.js';
import { packageVersion } from '@rerank-pool/config';

type Command = (argv: string[]) => Promise<number>;

interface CommandModule {
  run: Command;
  usage: string;
}

/**
 * Every command, loaded when used: `--version`, `config` and `--help` do not pay for
 * onnxruntime, BullMQ and Fastify. Tests enumerate this table, so a new command is covered.
 */
export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  dev: async () => import('./commands/dev.js').then((m) => ({ run: m.dev, usage: m.usage })),
  api: async () => import('./commands/api.js').then((m) => ({ run: m.api, usage: m.usage })),
  worker: async () => import('./commands/worker.js').then((m) => ({ run: m.worker, usage: m.usage })),
  'model synth': async () => import('./commands/model-synth.js').then((m) => ({ run: m.modelSynth, usage: m.usage })),
  'model quantize': async () => import('./commands/model-quantize.js').then((m) => ({ run: m.modelQuantize, usage: m.usage })),
  'model pull': async () => import('./commands/model-pull.js').then((m) => ({ run: m.modelPull, usage: m.usage })),
  score: async () => import('./commands/score.js').then((m) => ({ run: m.score, usage: m.usage })),
  submit: async () => import('./commands/submit.js').then((m) => ({ run: m.submit, usage: m.usage })),
  eval: async () => import('./commands/eval.js').then((m) => ({ run: m.evaluate, usage: m.usage })),
  bench: async () => import('./commands/bench.js').then((m) => ({ run: m.bench, usage: m.usage })),
  config: async () => import('./commands/config.js').then((m) => ({ run: m.config, usage: m.usage })),
};

const HELP_FLAGS = ['--help', '-h'];
const VERSION_FLAGS = ['--version', '-v'];

/** A command's usage is one line per form (e.g. `submit FILE …` and `submit --input-url …`). */
function usageLines(usage: string, first: string, rest = ' '.repeat(first.length)): string {
  return usage
    .split('\n')
    .map((line, index) => `${index === 0 ? first : rest}rerank-pool ${line}\n`)
    .join('');
}

/** The usage of every command whose name starts with `prefix` (all of them by default). */
async function help(prefix = ''): Promise<string> {
  const names = Object.keys(COMMANDS).filter((name) => name === prefix || name.startsWith(prefix));
  const modules = await Promise.all(names.map((name) => COMMANDS[name]!()));
  return [
    'usage: rerank-pool <command> [options]\n\n',
    modules.map((c) => usageLines(c.usage, '  ')).join(''),
    '\n',
    '  rerank-pool <command> --help   options of one command\n',
    '  rerank-pool --version          the installed version\n',
  ].join('');
}

function commandHelp(usage: string, error: HelpRequested): string {
  return `${usageLines(usage, 'usage: ')}\noptions:\n${describeOptions(error.options)}`;
}

function findCommand(argv: string[]): { name: string; rest: string[] } | undefined {
  const two = argv.slice(0, 2).join(' ');
  if (two in COMMANDS) return { name: two, rest: argv.slice(2) };
  if (argv[0] !== undefined && argv[0] in COMMANDS) return { name: argv[0], rest: argv.slice(1) };
  return undefined;
}

/** `model --help`: the subcommands of a group. */
function isGroup(word: string | undefined): word is string {
  return word !== undefined && Object.keys(COMMANDS).some((name) => name.startsWith(`${word} `));
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stderr.write(await help());
    return 2;
  }
  if (HELP_FLAGS.includes(argv[0]!) || (argv.length === 1 && argv[0] === 'help')) {
    process.stdout.write(await help());
    return 0;
  }
  if (argv.length === 1 && VERSION_FLAGS.includes(argv[0]!)) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // `help model synth` reads as `model synth --help`.
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help'];
  const found = findCommand(argv);
  if (!found) {
    if (isGroup(argv[0]) && argv.slice(1).every((arg) => HELP_FLAGS.includes(arg))) {
      process.stdout.write(await help(`${argv[0]} `));
      return 0;
    }
    process.stderr.write(`rerank-pool: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${await help()}`);
    return 2;
  }
  const command = await COMMANDS[found.name]!();
  try {
    return await command.run(found.rest);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(commandHelp(command.usage, error));
      return 0;
    }
    if (error instanceof UsageError) {
      process.stderr.write(
        `rerank-pool ${error.message}\n${usageLines(command.usage, 'usage: ')}run "rerank-pool ${found.name} --help" for its options\n`,
      );
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    process.stderr.write(`rerank-pool ${found.name}: ${(error as Error).message}${typeof code === 'string' ? ` [${code}]` : ''}\n`);
    return 1;
  }
}
