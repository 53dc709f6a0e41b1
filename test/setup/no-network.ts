import nock from 'nock';

// Only loopback is reachable in tests: a forgotten nock mock fails loudly
// instead of calling a real platform or OpenAI.
nock.disableNetConnect();
nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host));
