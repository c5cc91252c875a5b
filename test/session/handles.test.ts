import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HandleCodec, principalOf } from '../../src/session/handles.js';

const codec = new HandleCodec(Buffer.from(HandleCodec.newSecret()));
const alice = principalOf('alice-key');

describe('HandleCodec', () => {
  test('a handle names its checkpoint for the principal it was issued to', () => {
    const h = codec.issue({ sessionId: 'c0ffee-1', seq: 7 }, alice);
    assert.deepEqual(codec.verify(h, alice), { sessionId: 'c0ffee-1', seq: 7 });
  });

  test('is useless to another principal, to another server secret, and when any part is changed', () => {
    const h = codec.issue({ sessionId: 'c0ffee-1', seq: 7 }, alice);
    assert.equal(codec.verify(h, principalOf('mallory')), undefined);
    assert.equal(new HandleCodec(Buffer.from(HandleCodec.newSecret())).verify(h, alice), undefined);
    const [id, seq, mac] = Buffer.from(h, 'base64url').toString().split('.');
    // A character inside the MAC (the last one carries unused bits, so it can change the text and not the bytes).
    const flipped = mac!.slice(0, 10) + (mac![10] === 'A' ? 'B' : 'A') + mac!.slice(11);
    for (const changed of [`${id}x.${seq}.${mac}`, `${id}.${Number(seq) + 1}.${mac}`, `${id}.${seq}.${flipped}`]) {
      assert.equal(codec.verify(Buffer.from(changed).toString('base64url'), alice), undefined, changed);
    }
    assert.equal(codec.verify('', alice), undefined);
    assert.equal(codec.verify('x'.repeat(10_000), alice), undefined);
  });

  test('refuses a secret shorter than 128 bits', () => {
    assert.throws(() => new HandleCodec(Buffer.from('short')));
  });

  test('principals are hashes: the store never holds a key', () => {
    assert.match(alice, /^[0-9a-f]{64}$/);
    assert.notEqual(alice, principalOf('bob-key'));
  });
});
