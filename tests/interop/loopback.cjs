// Preloaded (node --require) into third-party MCP servers started by the tests, which listen on every interface
// when given only a port: a listen with a port and no host binds 127.0.0.1 instead.
const net = require("node:net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const portOnly = typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]));
  if (portOnly && typeof args[1] !== "string") {
    args.splice(1, 0, "127.0.0.1");
  }

  return listen.apply(this, args);
};
