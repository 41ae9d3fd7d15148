/**
 * Where a batch's files live in the batch store. Names that a writer could be racing for (an
 * upload taken over, a driver that lost its lease) carry the writer's token, so two writers
 * never overwrite each other's object: what counts is what Redis recorded (upload sessions) or,
 * for results parts, anything written, since every copy of a line's result is the same.
 */
function padded(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

const RESULTS_PART = /\/results-parts\/(\d{12})-\d+-[^/]+\.tsv$/;

export const storeLayout = {
  /** Everything a batch owns in the store (deleted when the batch expires). */
  root: (batchId: string) => `batches/${batchId}/`,
  inputParts: (batchId: string) => `batches/${batchId}/input/`,
  inputPart: (batchId: string, part: number, token: string) => `batches/${batchId}/input/${padded(part, 8)}-${token}.ndjson`,
  resultsParts: (batchId: string) => `batches/${batchId}/results-parts/`,
  /** A part of results lines, sorted by index, as `index<TAB>line`; named by its first index so parts can be merged in order. */
  resultsPart: (batchId: string, firstIndex: number, sequence: number, token: string) =>
    `batches/${batchId}/results-parts/${padded(firstIndex, 12)}-${padded(sequence, 8)}-${token}.tsv`,
  /** The first line index of a results part, from its key; undefined for any other key. */
  resultsPartFirstIndex(key: string): number | undefined {
    const match = RESULTS_PART.exec(key);
    return match ? Number(match[1]) : undefined;
  },
  /** The finished results (NDJSON, input order) of a batch without an output URL. */
  results: (batchId: string) => `batches/${batchId}/results.ndjson`,
};
