import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { HubError } from './errors.js';
import { contentSize, verificationProblem } from './file-verification.js';
import { httpStatusError, isNetworkError, type RepoFile } from './hub-client.js';

export interface BlobDownload {
  /** The /resolve/ URL of the file. */
  url: string;
  /** Names the file in messages: 'org/name@commit: onnx/model.onnx'. */
  label: string;
  endpoint: string;
  file: RepoFile;
  /** Final blob path; bytes accumulate in `${blobPath}.incomplete` until verified. */
  blobPath: string;
  /** A fetch that attaches the token and maps transport failures (see createHubFetch). */
  fetch: typeof fetch;
  onProgress: (downloaded: number, total: number) => void;
}

async function sizeOnDisk(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Start offset of a 206 answer ("bytes 100-199/200"), or undefined if unparsable. */
function contentRangeStart(header: string | null): number | undefined {
  const match = header?.match(/^bytes (\d+)-\d+\/(?:\d+|\*)$/);
  return match ? Number(match[1]) : undefined;
}

/**
 * Downloads one file into its blob, resuming a previous partial download.
 *
 * Bytes go to `<blob>.incomplete`; a later call continues from its size with `Range: bytes=N-`.
 * A server that ignores Range answers 200 with the whole file: the partial is then overwritten
 * from the start rather than appended to (which would corrupt it). The blob appears under its
 * final name only after its size and hash match the listing, so a blob that exists is trusted.
 *
 * Throws HUB_INTERRUPTED (partial kept, resumable) when the transfer breaks off, and
 * HUB_VERIFY_FAILED (partial deleted: resuming corrupt bytes can never succeed) on a mismatch.
 */
export async function downloadBlob(download: BlobDownload): Promise<void> {
  const { file, label } = download;
  const total = contentSize(file);
  const incomplete = `${download.blobPath}.incomplete`;
  let offset = await sizeOnDisk(incomplete);
  if (offset > total) {
    await rm(incomplete, { force: true });
    offset = 0;
  }

  if (offset < total) {
    const response = await download.fetch(download.url, {
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    });
    if (response.status === 416) {
      // Our partial does not fit the file the server has; only a fresh start can work.
      await rm(incomplete, { force: true });
      throw new HubError('HUB_INTERRUPTED', `${label}: the server rejected resuming at byte ${offset}; restarting`);
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw httpStatusError(response.status, `file ${label}`, download.endpoint);
    }
    if (response.status === 206) {
      const start = contentRangeStart(response.headers.get('content-range'));
      if (start !== offset) {
        await response.body.cancel();
        throw new HubError('HUB_BAD_RESPONSE', `${label}: asked for bytes from ${offset}, the server sent a range starting at ${start}`);
      }
    } else {
      offset = 0;
    }

    let downloaded = offset;
    download.onProgress(downloaded, total);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        downloaded += chunk.length;
        download.onProgress(downloaded, total);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        counter,
        createWriteStream(incomplete, { flags: offset > 0 ? 'a' : 'w' }),
      );
    } catch (error) {
      if (!isNetworkError(error)) throw error;
      throw new HubError(
        'HUB_INTERRUPTED',
        `${label}: download interrupted after ${downloaded} of ${total} bytes; pull again to resume from there`,
        { cause: error },
      );
    }
  }

  const problem = await verificationProblem(incomplete, file);
  if (problem !== undefined) {
    await rm(incomplete, { force: true });
    throw new HubError('HUB_VERIFY_FAILED', `${label}: downloaded content does not match the Hub's record (${problem}); the partial file was deleted, pull again`);
  }
  await rename(incomplete, download.blobPath);
}
