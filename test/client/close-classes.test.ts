import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyClose, isRetryableHttpStatus, type CloseContext } from '../../src/client/close-classes.js';

const live: CloseContext = { resuming: false, closedByClient: false };
const resuming: CloseContext = { resuming: true, closedByClient: false };
const byClient: CloseContext = { resuming: false, closedByClient: true };

type Row = [code: number, reason: string, context: CloseContext, kind: string, label: string];

/** Every row of PROTOCOL.md §7.1, verbatim reasons (truncated ones as the service truncates them). */
const protocolRows: Row[] = [
  [1000, '', byClient, 'normal', 'normal'],
  [1000, 'The operation was cancelled.', live, 'retry', 'cancelled'],
  [1007, 'Request contains an invalid argument.', live, 'fatal', 'invalidArgument'],
  [1007, 'User location is not supported for the API use.', live, 'fatal', 'locationNotSupported'],
  [1007, 'API key not valid. Please pass a valid API key.', live, 'fatal', 'invalidApiKey'],
  [1007, 'API Key not found. Please pass a valid API key.', live, 'fatal', 'invalidApiKey'],
  [1007, 'API key expired', live, 'fatal', 'apiKeyExpired'],
  [1007, 'Cannot extract voices from a non-audio request.', live, 'fatal', 'invalidArgument'],
  [1007, 'Invalid JSON payload received. Unknown name "foo" at \'setup\': Cannot find field.', live, 'fatal', 'invalidArgument'],
  [1007, '', live, 'fatal', 'invalidArgument'],
  [
    1008,
    'models/gemini-nope is not found for API version v1alpha, or is not supported for bidiGenerateContent. Call ListModels to see the',
    live,
    'fatal',
    'modelNotFound',
  ],
  [1008, 'Operation is not implemented, or supported, or enabled', live, 'fatal', 'notImplemented'],
  [1008, 'Requested entity was not found.', live, 'fatal', 'entityNotFound'],
  [1008, 'BidiGenerateContent session not found', resuming, 'sessionLost', 'sessionNotFound'],
  [1008, 'The operation was aborted.', live, 'retry', 'aborted'],
  [1008, "Request trace id: 1a2b3c, [ORIGINAL ERROR] generic::invalid_argument: application/json isn't", live, 'fatal', 'policyViolation'],
  [1011, 'Internal error occurred.', live, 'retry', 'internal'],
  [1011, 'Internal error encountered.', live, 'retry', 'internal'],
  [1011, 'The service is currently unavailable.', live, 'retry', 'unavailable'],
  [1011, 'Deadline expired before operation could complete.', live, 'retry', 'deadlineExpired'],
  [
    1011,
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https',
    live,
    'retry',
    'quota',
  ],
  [1011, 'Request trace id: 9f, [ORIGINAL ERROR] generic::resource_exhausted: RESOURCE_EXHAUSTED: Maximum concurrent se', live, 'retry', 'quota'],
  // Resume while the old connection is still open: rejected with 1011, unreported reason.
  [1011, '', resuming, 'retry', 'internal'],
  // Upgrade refused in a browser: the app sees only 1006.
  [1006, '', live, 'retry', 'dropped'],
];

/** The cases the brief and PROTOCOL.md §5 add: client-closed, unasked 1000, resumption, takeover, others. */
const contextRows: Row[] = [
  [1000, '', live, 'retry', 'closedByServer'],
  [1000, 'The operation was cancelled.', byClient, 'normal', 'normal'],
  [1005, '', byClient, 'normal', 'normal'],
  [1006, '', byClient, 'normal', 'normal'],
  [1005, '', live, 'retry', 'dropped'],
  [1008, 'Session resumed on another connection.', live, 'takenOver', 'takenOver'],
  [1008, 'Session resumed on another connection.', byClient, 'takenOver', 'takenOver'],
  [1008, 'BidiGenerateContent session not found', live, 'sessionLost', 'sessionNotFound'],
  // After a 1011 deadline, resumption fails with 1007 (PROTOCOL.md §5.3); relive's different-model resume too.
  [1007, 'Request contains an invalid argument.', resuming, 'sessionLost', 'resumeRejected'],
  [1007, '', resuming, 'sessionLost', 'resumeRejected'],
  // Bad credentials stay fatal while resuming: a new session would fail the same way.
  [1007, 'API key not valid. Please pass a valid API key.', resuming, 'fatal', 'invalidApiKey'],
  [1007, 'API key expired', resuming, 'fatal', 'apiKeyExpired'],
  [1008, 'The caller does not have permission', live, 'fatal', 'permissionDenied'],
  [1008, 'something new', live, 'fatal', 'policyViolation'],
  [1011, 'keepalive ping timeout', live, 'retry', 'internal'],
  [1001, '', live, 'retry', 'goingAway'],
  [1009, 'Request payload size exceeds the limit: 16777216 bytes.', live, 'fatal', 'messageTooBig'],
  [1012, '', live, 'retry', 'serviceRestart'],
  [1013, '', live, 'retry', 'tryAgainLater'],
  [4000, 'custom', live, 'fatal', 'application'],
  [4999, '', live, 'fatal', 'application'],
  [3000, 'unauthorized?', live, 'retry', 'unknown'],
  [1015, '', live, 'retry', 'unknown'],
];

const ctxName = (c: CloseContext) => (c.closedByClient ? 'closed by client' : c.resuming ? 'resuming' : 'live');

describe('classifyClose', () => {
  for (const [title, rows] of [
    ['PROTOCOL.md §7.1', protocolRows],
    ['context and other codes', contextRows],
  ] as const) {
    describe(title, () => {
      for (const [code, reason, context, kind, label] of rows) {
        test(`${code} "${reason.slice(0, 50)}" (${ctxName(context)}) → ${kind}/${label}`, () => {
          assert.deepEqual(classifyClose(code, reason, context), { kind, label });
        });
      }
    });
  }

  test('reason matching ignores case', () => {
    assert.equal(classifyClose(1008, 'the OPERATION was ABORTED.', live).kind, 'retry');
    assert.equal(classifyClose(1008, 'SESSION RESUMED ON ANOTHER CONNECTION.', live).kind, 'takenOver');
  });
});

describe('isRetryableHttpStatus', () => {
  test('429, 408 and 5xx retry; other 4xx do not', () => {
    for (const s of [408, 429, 500, 502, 503, 504, 599]) assert.equal(isRetryableHttpStatus(s), true, String(s));
    for (const s of [400, 401, 403, 404, 405, 426, 200, 301]) assert.equal(isRetryableHttpStatus(s), false, String(s));
  });
});
