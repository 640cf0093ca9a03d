// Express 4, installed as `express4` beside Express 5 to test heapwatch() on both. Its API is
// the one @types/express describes for the parts these tests use.
declare module 'express4' {
  import express from 'express';
  export default express;
}
