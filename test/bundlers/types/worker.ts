// A module Web Worker, compiled with tsconfig.dom.json.
import { joinHeap } from 'biasrc/worker';

joinHeap().then((heap) => {
  self.onmessage = (event: MessageEvent<number>) => heap.decref(event.data);
});
