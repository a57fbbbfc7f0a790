import { joinHeap } from 'biasrc/worker';

joinHeap().then((heap) => {
  self.onmessage = ({ data: counter }) => {
    heap.withLock(counter, () => {
      const view = heap.view(counter);
      view.setUint32(0, view.getUint32(0, true) + 1, true);
    });
    heap.decref(counter);
    self.postMessage('done');
  };
});
