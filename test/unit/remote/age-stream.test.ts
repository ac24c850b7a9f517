import { expect } from 'chai';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AgeDecryptError, ageCiphertextSize, ageEncryptor, createAgeDecryptStream, createAgeEncryptStream } from '../../../src/remote/age-stream.js';
import { IdentityError, loadIdentity, parseIdentityText } from '../../../src/remote/identity.js';

async function run(input: Buffer, transform: NodeJS.ReadWriteStream, chunk = 10_000): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    transform,
    new Writable({
      write: (c: Buffer, _e, cb) => {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('age streams (header by age-encryption, payload by node:crypto)', () => {
  let identity: string;
  let recipient: string;
  before(async () => {
    identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
  });

  for (const size of [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 200_003]) {
    it(`round-trips ${size} bytes, with the size age predicts`, async () => {
      const plain = randomBytes(size);
      const encrypt = await createAgeEncryptStream([recipient]);
      const sealed = await run(plain, encrypt);
      expect(sealed.length).to.equal(ageCiphertextSize(size, encrypt.prefixSize - 16));
      expect((await run(sealed, createAgeDecryptStream([identity]), 7_777)).equals(plain)).to.equal(true);
    });
  }

  /** Plaintext through one buffer overwritten before every piece, as fileChunks gives it. */
  async function* reused(input: Buffer, chunk: number): AsyncGenerator<Buffer> {
    const buffer = Buffer.alloc(chunk);
    for (let i = 0; i < input.length; i += chunk) {
      const n = input.copy(buffer, 0, i, i + chunk);
      yield buffer.subarray(0, n);
      buffer.fill(0xee);
    }
  }

  for (const [size, chunk] of [
    [0, 1024],
    [65_536, 65_536],
    [200_003, 10_000],
    [300_000, 1024 * 1024],
  ] as const) {
    it(`the pull form gives the same format for ${size} bytes read through a reused ${chunk}-byte buffer`, async () => {
      const plain = randomBytes(size);
      const age = await ageEncryptor([recipient]);
      const pieces: Buffer[] = [];
      for await (const piece of age.encrypt(reused(plain, chunk))) pieces.push(Buffer.from(piece));
      const sealed = Buffer.concat(pieces);
      expect(sealed.length).to.equal(ageCiphertextSize(size, age.prefixSize - 16));
      expect((await run(sealed, createAgeDecryptStream([identity]), 7_777)).equals(plain)).to.equal(true);
    });
  }

  it('encrypts for several recipients; each identity decrypts', async () => {
    const other = await generateX25519Identity();
    const sealed = await run(Buffer.from('secret data'), await createAgeEncryptStream([recipient, await identityToRecipient(other)]));
    expect((await run(sealed, createAgeDecryptStream([other]))).toString()).to.equal('secret data');
  });

  const damage: [string, (b: Buffer) => Buffer, RegExp][] = [
    [
      'a flipped payload byte',
      (b) => Buffer.concat([b.subarray(0, -20), Buffer.from([b[b.length - 20]! ^ 1]), b.subarray(-19)]),
      /failed authentication/,
    ],
    ['a truncated file', (b) => b.subarray(0, b.length - 65_536 - 16), /failed authentication|truncated/],
    ['a missing last chunk (cut at a chunk boundary)', (b) => b.subarray(0, b.length - ((150_000 % 65_536) + 16)), /failed authentication|truncated/],
    [
      'a changed header',
      (b) => Buffer.concat([Buffer.from(b.toString('latin1').replace('X25519', 'X25518'), 'latin1')]),
      /not one of the recipients|not a valid age header/,
    ],
    ['not an age file', () => randomBytes(100_000), /not an age file/],
  ];
  for (const [what, alter, message] of damage) {
    it(`refuses ${what}`, async () => {
      const sealed = await run(randomBytes(150_000), await createAgeEncryptStream([recipient]));
      try {
        await run(alter(sealed), createAgeDecryptStream([identity]));
        expect.fail('decryption should fail');
      } catch (error) {
        expect(error).to.be.instanceOf(AgeDecryptError);
        expect((error as Error).message).to.match(message);
      }
    });
  }

  it('a wrong identity is told apart from damage', async () => {
    const sealed = await run(randomBytes(10), await createAgeEncryptStream([recipient]));
    try {
      await run(sealed, createAgeDecryptStream([await generateX25519Identity()]));
      expect.fail('decryption should fail');
    } catch (error) {
      expect((error as Error).message).to.match(/not one of the recipients/);
    }
  });

  describe('identities', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'orchestrate-age-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('reads age-keygen files (comments allowed) and tells whether they fit the inventory', async () => {
      const file = join(dir, 'key.txt');
      await writeFile(file, `# created: 2026-12-01\n# public key: ${recipient}\n${identity}\n`);
      const loaded = await loadIdentity({ recipients: [recipient], local: false }, { ORCHESTRATE_AGE_IDENTITY_FILE: file });
      expect([loaded.keys, loaded.recipients, loaded.matchesInventory, loaded.source]).to.deep.equal([[identity], [recipient], true, file]);
      const other = await loadIdentity(
        { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'], local: false },
        { ORCHESTRATE_AGE_IDENTITY: identity },
      );
      expect([other.matchesInventory, other.source]).to.deep.equal([false, 'ORCHESTRATE_AGE_IDENTITY']);
    });

    it('missing, unreadable or malformed identities are clear errors that never print the key', async () => {
      const attempts: [NodeJS.ProcessEnv, RegExp][] = [
        [{}, /no age identity was given/],
        [{ ORCHESTRATE_AGE_IDENTITY_FILE: join(dir, 'absent') }, /cannot be read: no such file/],
        [{ ORCHESTRATE_AGE_IDENTITY: `${identity}x` }, /line 1 is not an age X25519 identity/],
      ];
      for (const [env, message] of attempts) {
        try {
          await loadIdentity(undefined, env);
          expect.fail('should fail');
        } catch (error) {
          expect(error).to.be.instanceOf(IdentityError);
          expect((error as Error).message).to.match(message);
          expect((error as Error).message).not.to.include(identity.slice(20));
        }
      }
      expect(() => parseIdentityText('# only comments\n', 'f')).to.throw(/holds no age identity/);
    });
  });
});
