import { HubError } from './errors.js';

// Same rules as huggingface_hub's validate_repo_id: an optional namespace and a name made of
// word characters, '-' and '.', at most 96 characters each, no '--' or '..' (the cache folder
// name uses '--' as separator, so a '--' inside an id would make two ids share a folder).
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}$/;

/** Why `ref` is not a Hub model id, or undefined when it is one. */
function hubIdProblem(ref: string): string | undefined {
  if (ref.length === 0) return 'it is empty';
  const segments = ref.split('/');
  if (segments.length > 2) return "a Hub id has at most one '/' ('org/name' or 'name')";
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) {
      return `'${segment}' must be 1-96 characters of letters, digits, '_', '-' or '.', not starting with '-' or '.'`;
    }
    if (segment.includes('--') || segment.includes('..')) return "'--' and '..' are not allowed";
    if (segment.endsWith('.') || segment.endsWith('-')) return `'${segment}' must not end with '.' or '-'`;
  }
  if (ref.endsWith('.git')) return "it must not end with '.git'";
  return undefined;
}

/** True for the 'org/name' and 'name' shapes the Hub accepts as model ids. */
export function isHubId(ref: string): boolean {
  return hubIdProblem(ref) === undefined;
}

/** Throws HUB_BAD_ID explaining what is wrong with `ref` when it is not a Hub id. */
export function assertHubId(ref: string): void {
  const problem = hubIdProblem(ref);
  if (problem !== undefined) {
    throw new HubError(
      'HUB_BAD_ID',
      `"${ref}" is not an existing model directory nor a valid Hugging Face model id (such as ` +
        `cross-encoder/ms-marco-MiniLM-L-6-v2): ${problem}`,
    );
  }
}
