import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, synthesizeModel, syntheticText, type SynthPresetName } from '@rerank-pool/model-synth';
import { readInitializers } from './support/onnx-initializers.js';
import { makeTempDir } from './support/temp-dir.js';

const CLS = 101;
const SEP = 102;
const UNK = 100;

/** Not drawn from the package's word list: how a real passage fares. */
const ORDINARY_ENGLISH =
  'The committee reviewed the proposal on Tuesday and agreed that the budget should be increased. ' +
  'Several members argued that public transport in smaller towns deserves more attention, while others ' +
  'wanted faster broadband for rural schools. A final decision is expected after the summer holidays.';

// tiny has only the base vocabulary; the 30522-piece vocabularies add inflected words and syllables.
const PIECES_PER_WORD: { preset: SynthPresetName; ordinary: number }[] = [
  { preset: 'tiny', ordinary: 2 },
  { preset: 'tinybert-l2', ordinary: 1.5 },
];

describe.each(PIECES_PER_WORD)('when the $preset tokenizer files are loaded', ({ preset, ordinary }) => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let tokenizer: Tokenizer;
  let modelDir: string;

  beforeAll(async () => {
    temp = await makeTempDir();
    modelDir = (await synthesizeModel({ preset, outDir: temp.dir })).dir;
    const read = async (name: string) => JSON.parse(await readFile(path.join(modelDir, name), 'utf8'));
    tokenizer = new Tokenizer(await read('tokenizer.json'), await read('tokenizer_config.json'));
  });

  afterAll(async () => {
    await temp?.remove();
  });

  it('should encode a pair as [CLS] A [SEP] B [SEP] with segment ids', () => {
    const encoding = tokenizer.encode('what is bert', { text_pair: 'bert is a model', return_token_type_ids: true });
    const ids: number[] = encoding.ids;
    expect(ids[0]).toBe(CLS);
    expect(ids.at(-1)).toBe(SEP);
    const separators = ids.flatMap((id, index) => (id === SEP ? [index] : []));
    expect(separators).toHaveLength(2);
    expect(ids).not.toContain(UNK);
    const firstSeparator = separators[0];
    expect(encoding.token_type_ids.slice(0, firstSeparator + 1).every((type: number) => type === 0)).toBe(true);
    expect(encoding.token_type_ids.slice(firstSeparator + 1).every((type: number) => type === 1)).toBe(true);
  });

  it('should tokenize synthetic text with almost no [UNK] and about one piece per word', () => {
    const words = 2000;
    const ids: number[] = tokenizer.encode(syntheticText(createRng(3), words), { add_special_tokens: false }).ids;
    expect(ids.filter((id) => id === UNK).length / ids.length).toBeLessThan(0.05);
    // Words are whole vocabulary entries; the surplus is punctuation.
    expect(ids.length / words).toBeLessThan(1.3);
  });

  it(`should tokenize ordinary English without [UNK] in under ${ordinary} pieces per word`, () => {
    const words = ORDINARY_ENGLISH.split(/\s+/).length;
    const ids: number[] = tokenizer.encode(ORDINARY_ENGLISH, { add_special_tokens: false }).ids;
    expect(ids).not.toContain(UNK);
    expect(ids.length / words).toBeLessThan(ordinary);
  });

  it('should agree with config.json and the embedding table on the vocabulary size', async () => {
    const config = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8'));
    const vocabulary = tokenizer.get_vocab();
    const embeddings = (await readInitializers(path.join(modelDir, 'model.onnx'))).find(
      (tensor) => tensor.name === 'bert.embeddings.word_embeddings.weight',
    );
    expect(vocabulary.size).toBe(config.vocab_size);
    expect(embeddings?.dims[0]).toBe(config.vocab_size);
    expect(Math.max(...vocabulary.values())).toBe(config.vocab_size - 1);
  });
});
