// An AssemblyScript project that compiles biasrc's core in, importing it as the README says.
import { brc_init, brc_thread_attach, brc_alloc, brc_decref, brc_stat } from "biasrc/assembly";

export function roundTrip(): i32 {
  const object = brc_alloc(8, 0);
  if (object == 0) return -1;
  brc_decref(object);
  return 0;
}

export { brc_init, brc_thread_attach, brc_stat };
