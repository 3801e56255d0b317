// Live increments refused by a duplicate key: a sealed document refuses them for good, a document another process
// inserted a moment before takes them on the second try.
import { ignoringSealed } from '../src/models/rollup';

const duplicateKeyAt = (...indexes: number[]) =>
  Object.assign(new Error('E11000 duplicate key error'), {
    writeErrors: indexes.map((index) => ({ code: 11000, index })),
  });

describe('ignoringSealed', () => {
  it('tries the operations refused by a duplicate key once more, and only those', async () => {
    const calls: string[][] = [];
    await ignoringSealed(['a', 'b', 'c'], async (operations) => {
      calls.push(operations);
      if (calls.length === 1) throw duplicateKeyAt(0, 2);
    });
    expect(calls).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
  });

  it('leaves operations a sealed document refuses again, without an error', async () => {
    const calls: string[][] = [];
    await ignoringSealed(['a', 'b'], async (operations) => {
      calls.push(operations);
      throw duplicateKeyAt(operations.length - 1);
    });
    expect(calls).toEqual([['a', 'b'], ['b']]);
  });

  it('throws any other refusal, and a duplicate key mixed with one', async () => {
    const refused = Object.assign(new Error('refused'), {
      writeErrors: [
        { code: 11000, index: 0 },
        { code: 121, index: 1 },
      ],
    });
    await expect(
      ignoringSealed(['a', 'b'], async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
    const down = new Error('connection closed');
    await expect(
      ignoringSealed(['a'], async () => {
        throw down;
      }),
    ).rejects.toBe(down);
  });

  it('writes nothing for no operations', async () => {
    const write = jest.fn();
    await ignoringSealed([], write);
    expect(write).not.toHaveBeenCalled();
  });
});
