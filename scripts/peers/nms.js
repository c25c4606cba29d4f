// node-media-server peer for scripts/loadtest.sh: RTMP on 127.0.0.1:RTMP_PORT (live
// application "live", GOP cache on), HTTP-FLV/API on 127.0.0.1:HTTP_PORT. HLS would need
// node-media-server's ffmpeg transmuxing tasks, so it is not offered.
//
// Usage: NODE_PATH=<dir with node-media-server@2> node nms.js RTMP_PORT HTTP_PORT
'use strict';
const net = require('net');
const http = require('http');

// node-media-server listens on every interface; keep the benchmark on the loopback address.
for (const proto of [net.Server.prototype, http.Server.prototype]) {
  const listen = proto.listen;
  proto.listen = function (...args) {
    if (typeof args[0] === 'number' && typeof args[1] !== 'string') {
      args.splice(1, 0, '127.0.0.1');
    }
    return listen.apply(this, args);
  };
}

const NodeMediaServer = require('node-media-server');
const [rtmpPort, httpPort] = process.argv.slice(2).map(Number);
const nms = new NodeMediaServer({
  logType: 1, // errors only
  rtmp: {
    port: rtmpPort || 1935,
    chunk_size: 4096,
    gop_cache: true,
    ping: 30,
    ping_timeout: 60,
  },
  http: {
    port: httpPort || 8000,
    allow_origin: '*',
  },
});
nms.run();
console.log(`node-media-server: RTMP 127.0.0.1:${rtmpPort}, HTTP 127.0.0.1:${httpPort}`);
