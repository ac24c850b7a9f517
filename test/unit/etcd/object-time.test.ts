// When an object stored in etcd was last changed: managedFields, else creationTimestamp; JSON and
// Kubernetes protobuf; nothing for encrypted values.
import { expect } from 'chai';
import { objectTime } from '../../../src/etcd/object-time.js';

/** Protobuf encoding helpers: enough to build a k8s runtime.Unknown by hand. */
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (number: number, body: Buffer) => Buffer.concat([varint(number * 8 + 2), varint(body.length), body]);
const timeMessage = (seconds: number) => Buffer.concat([varint(1 * 8), varint(seconds)]);

describe('objectTime', () => {
  it('the newest managedFields time of a JSON object', () => {
    const value = JSON.stringify({
      metadata: {
        creationTimestamp: '2026-01-01T00:00:00Z',
        managedFields: [{ time: '2026-03-01T10:00:00Z' }, { time: '2026-05-02T11:12:13Z' }, { manager: 'x' }],
      },
    });
    expect(objectTime(Buffer.from(value))).to.deep.equal({ at: '2026-05-02T11:12:13.000Z', source: 'managedFields' });
  });

  it('creationTimestamp when no manager recorded a time', () => {
    expect(objectTime(Buffer.from('{"metadata":{"creationTimestamp":"2026-01-01T00:00:00Z"}}'))).to.deep.equal({
      at: '2026-01-01T00:00:00.000Z',
      source: 'creationTimestamp',
    });
  });

  it('Kubernetes protobuf: ObjectMeta inside runtime.Unknown', () => {
    const managed = field(17, field(4, timeMessage(1_780_000_000)));
    const meta = Buffer.concat([field(1, Buffer.from('web-1')), field(8, timeMessage(1_770_000_000)), managed]);
    const object = field(1, meta);
    const unknown = Buffer.concat([field(1, Buffer.from('typemeta')), field(2, object)]);
    const value = Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
    expect(objectTime(value)).to.deep.equal({ at: new Date(1_780_000_000_000).toISOString(), source: 'managedFields' });
  });

  it('says why when there is no time', () => {
    expect(objectTime(Buffer.from('k8s:enc:aescbc:v1:key1:xxxx'))).to.deep.equal({ note: 'the value is encrypted at rest' });
    expect(objectTime(Buffer.from('written by hand'))).to.deep.equal({ note: 'the value records no time' });
    expect(objectTime(undefined)).to.deep.equal({ note: 'the value is empty' });
  });
});
