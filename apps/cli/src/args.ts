import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './cli-error.js';

type ParseOption = NonNullable<ParseArgsConfig['options']>[string];

/** A parseArgs option plus what `--help` prints for it (parseArgs ignores the extra fields). */
export type CommandOption = ParseOption & {
  /** One line for `--help`. */
  description: string;
  /** What the value is called in `--help` (string options), e.g. `FILE`. */
  value?: string;
};

export type CommandOptions = Record<string, CommandOption>;

type Config<T extends CommandOptions> = { args: string[]; options: T; allowPositionals: true; strict: true };

const HELP = { help: { type: 'boolean', short: 'h', description: 'Show this help and exit' } } as const satisfies CommandOptions;

/**
 * Thrown instead of parsing when `--help`/`-h` is given: main prints the usage and the options
 * this parser was given, so the help cannot drift from what the command accepts.
 */
export class HelpRequested extends Error {
  readonly code = 'CLI_HELP';

  constructor(
    readonly command: string,
    readonly options: CommandOptions,
  ) {
    super(`${command}: help requested`);
    this.name = 'HelpRequested';
  }
}

/** Whether `--help`/`-h` appears as an option (not as an option's value, not after `--`). */
function wantsHelp(argv: string[], options: CommandOptions): boolean {
  const { tokens } = parseArgs({ args: argv, options: { ...options, ...HELP }, allowPositionals: true, strict: false, tokens: true });
  return tokens.some((token) => token.kind === 'option' && token.name === 'help');
}

/** parseArgs with errors turned into UsageErrors that name the command (and an unknown option). */
export function parseCommandArgs<T extends CommandOptions>(command: string, argv: string[], options: T): ReturnType<typeof parseArgs<Config<T>>> {
  if (wantsHelp(argv, options)) throw new HelpRequested(command, options);
  try {
    return parseArgs<Config<T>>({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message);
    if (unknown) throw new UsageError(`${command}: unknown option ${unknown[1]}`);
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

/** The options part of a command's `--help`: one line per option, `--help` last. */
export function describeOptions(options: CommandOptions): string {
  const rows = Object.entries({ ...options, ...HELP } as CommandOptions).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}`;
    const value = option.type === 'string' ? ` ${option.value ?? 'VALUE'}${option.multiple ? ' ...' : ''}` : '';
    const fallback = option.type === 'string' && option.default !== undefined ? ` (default: ${String(option.default)})` : '';
    return [`${flag}${value}`, `${option.description}${fallback}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}\n`).join('');
}

export function positiveIntegerArg(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new UsageError(`${command}: --${name} must be a positive integer, got "${value}"`);
  }
  return parsed;
}

export function requiredArg(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`${command}: --${name} is required`);
  return value;
}
