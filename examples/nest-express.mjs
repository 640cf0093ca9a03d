// heapwatch in a NestJS app on its Express adapter: `npm run build && node examples/nest-express.mjs`
// (see orders-load.mjs).
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { heapwatch } from 'heapwatch';
import { demoOptions, rememberOrderView, sendOrders } from './orders-load.mjs';

class OrdersController {
  show(id) {
    rememberOrderView(id);
    return { id, status: 'shipped' };
  }
}
// Plain JavaScript: what @Controller('orders'), @Get(':id') and @Param('id') write in TypeScript.
Controller('orders')(OrdersController);
Param('id')(OrdersController.prototype, 'show', 0);
Get(':id')(OrdersController.prototype, 'show', Object.getOwnPropertyDescriptor(OrdersController.prototype, 'show'));
class AppModule {}
Module({ controllers: [OrdersController] })(AppModule);

const app = await NestFactory.create(AppModule);
const watch = heapwatch(demoOptions);
app.use(watch); // the one line: /metrics, /debug/heap, /debug/pprof/heap
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
sendOrders(`http://127.0.0.1:${app.getHttpServer().address().port}`, watch.monitor, async () => {
  await app.close();
  watch.stop();
});
