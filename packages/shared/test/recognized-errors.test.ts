import { GraphQLError } from 'graphql';
import {
  MongoClientClosedError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import mongoose from 'mongoose';
import { isDatabaseUnavailable, recognizedError } from '../src';

/** How graphql-js hands a resolver's error to the formatter. */
const inResolver = (error: Error) =>
  new GraphQLError(error.message, { originalError: error, path: ['viewer'] });

describe('isDatabaseUnavailable', () => {
  it.each<[string, Error, boolean]>([
    [
      'no server to select',
      new MongoServerSelectionError('connect ECONNREFUSED 127.0.0.1:1', {} as never),
      true,
    ],
    ['a broken connection', new MongoNetworkError('connection 4 to 127.0.0.1:1 closed'), true],
    ['a timed-out connection', new MongoNetworkTimeoutError('timed out'), true],
    ['a closed client', new MongoNotConnectedError('Client must be connected'), true],
    ['a closed topology', new MongoTopologyClosedError(), true],
    ['a client closed during an operation', new MongoClientClosedError(), true],
    [
      'mongoose giving up on a queued command',
      new mongoose.Error('Operation `m.find()` buffering timed out after 10000ms'),
      true,
    ],
    ['the same, wrapped by a resolver', inResolver(new MongoNetworkError('closed')), true],
    [
      'the same, as the cause of another error',
      new Error('read failed', { cause: new MongoNetworkError('x') }),
      true,
    ],
    ['a duplicate key', new MongoServerError({ message: 'E11000 duplicate key', code: 11000 }), false],
    ['another mongoose error', new mongoose.Error('Cast to ObjectId failed'), false],
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'x')"), false],
    ['a GraphQL error', new GraphQLError('nope', { extensions: { code: 'BAD_USER_INPUT' } }), false],
  ])('%s', (_name, error, expected) => {
    expect(isDatabaseUnavailable(error)).toBe(expected);
  });
});

describe('recognizedError', () => {
  const formatted = (error: GraphQLError) => error.toJSON();

  it('answers an unreachable database as SERVICE_UNAVAILABLE, telling the client no address', () => {
    const error = inResolver(
      new MongoServerSelectionError('connect ECONNREFUSED 10.1.2.3:27017', {} as never),
    );
    const answer = recognizedError(formatted(error), error);
    expect(answer).toEqual({
      message: 'the database could not be reached; try again',
      path: ['viewer'],
      locations: undefined,
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(JSON.stringify(answer)).not.toContain('10.1.2.3');
  });

  it.each([
    ['provided sha does not match query', 'PERSISTED_QUERY_HASH_MISMATCH'],
    ['Unsupported persisted query version', 'PERSISTED_QUERY_VERSION_NOT_SUPPORTED'],
  ])('gives Apollo Server\'s codeless "%s" the code %s', (message, code) => {
    const error = new GraphQLError(message, { extensions: { http: { status: 400 } } });
    expect(recognizedError(formatted(error), error)?.extensions).toEqual({ code });
  });

  it.each([
    [
      'an error the hub raised',
      new GraphQLError('provided sha does not match query', { extensions: { code: 'X' } }),
    ],
    ['an unknown codeless error', new GraphQLError('constructor')],
  ])('leaves %s to the formatter', (_name, error) => {
    expect(recognizedError(formatted(error), error)).toBeNull();
  });
});
