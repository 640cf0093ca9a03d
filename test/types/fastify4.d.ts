// Fastify 4, installed as `fastify4` beside Fastify 5 to test heapwatch/fastify on both. The tests
// use the parts of its API that Fastify 5's types describe.
declare module 'fastify4' {
  import Fastify from 'fastify';
  export default Fastify;
}
