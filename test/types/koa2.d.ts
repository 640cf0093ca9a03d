// Koa 2, installed as `koa2` beside Koa 3 to test heapwatch/koa on both. The tests use the parts
// of its API that @types/koa describes.
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
