'use strict';
// Child process of the token cache crash test: builds the cache of argv[2] into argv[3] with the byte
// tokenizer of test/helpers/byte_tokenizer.ts (same fingerprint), printing "tokenising" once some tokens are
// on disk, so the parent can SIGKILL it in the middle of the build.
const { prepareTokenCache } = require('../../dist/data/token_cache');

const encoder = new TextEncoder();
const tokenizer = {
  name: 'test-bytes+0',
  vocabSize: 257,
  eosTokenId: 256,
  fingerprint: 'test byte tokenizer v1, id offset 0',
  encode: (text) => Array.from(encoder.encode(text)),
  decode: () => '',
};

let announced = false;
prepareTokenCache(process.argv[2], {
  tokenizer,
  cacheDir: process.argv[3],
  onProgress: (documents, tokens) => {
    if (!announced && tokens > 3 << 20) {
      announced = true;
      process.stdout.write('tokenising\n');
    }
  },
})
  .then(() => process.stdout.write('finished\n'))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
