/** One Dockerfile instruction with continuation lines joined. */
export interface DockerInstruction {
  keyword: string;
  args: string;
  line: number;
}

export interface DockerStage {
  /** The FROM argument (image or earlier stage), before any build-arg substitution. */
  from: string;
  name?: string;
  instructions: DockerInstruction[];
}

export interface ParsedDockerfile {
  /** ARG and other instructions before the first FROM. */
  preamble: DockerInstruction[];
  stages: DockerStage[];
}

const KEYWORDS = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

/**
 * Parses the instruction layer of a Dockerfile: comments, blank lines, `\` continuations (with
 * comment lines inside them skipped, as BuildKit does) and keyword checks. Heredocs are refused
 * rather than misread. Throws naming the line on anything it does not understand.
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: DockerInstruction[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const first = lines[index].trim();
    if (first === '' || first.startsWith('#')) continue;
    const line = index + 1;
    let joined = first;
    while (joined.endsWith('\\')) {
      joined = joined.slice(0, -1);
      do {
        index++;
        if (index >= lines.length) throw new SyntaxError(`line ${line}: continuation runs past the end of the file`);
      } while (lines[index].trim() === '' || lines[index].trim().startsWith('#'));
      joined += ` ${lines[index].trim()}`;
    }
    const match = /^(\S+)\s*(.*)$/s.exec(joined.trim());
    const keyword = (match?.[1] ?? '').toUpperCase();
    if (!KEYWORDS.has(keyword)) throw new SyntaxError(`line ${line}: unknown instruction ${match?.[1]}`);
    const args = (match?.[2] ?? '').replace(/\s+/g, ' ').trim();
    if (args === '') throw new SyntaxError(`line ${line}: ${keyword} needs arguments`);
    if (/<<-?["']?[A-Za-z]/.test(args) && (keyword === 'RUN' || keyword === 'COPY')) {
      throw new SyntaxError(`line ${line}: heredocs are not supported by this parser`);
    }
    instructions.push({ keyword, args, line });
  }
  return splitStages(instructions);
}

function splitStages(instructions: DockerInstruction[]): ParsedDockerfile {
  const parsed: ParsedDockerfile = { preamble: [], stages: [] };
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(' ').filter((word) => !word.startsWith('--'));
      const [from, as, name] = words;
      if (as !== undefined && (as.toUpperCase() !== 'AS' || name === undefined)) {
        throw new SyntaxError(`line ${instruction.line}: FROM expects "image [AS name]"`);
      }
      parsed.stages.push({ from, name, instructions: [] });
    } else if (parsed.stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new SyntaxError(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      parsed.preamble.push(instruction);
    } else {
      parsed.stages[parsed.stages.length - 1].instructions.push(instruction);
    }
  }
  if (parsed.stages.length === 0) throw new SyntaxError('no FROM instruction');
  return parsed;
}

/** Variables an ENV instruction sets, in `KEY=value ...` or legacy `KEY value` form. */
export function envInstructionNames(instruction: DockerInstruction): string[] {
  if (!instruction.args.includes('=')) return [instruction.args.split(' ')[0]];
  return [...instruction.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((match) => match[1]);
}
