;; biasrc_wait: the one function the biasrc core imports besides its memory (env.biasrc_wait), for hosts without
;; JavaScript (wasmtime, WAMR, wasm3 with threads, ...). Instantiate it over the heap's memory and pass its export
;; as the core's env.biasrc_wait import:
;;
;;   biasrc_wait(address, expected, timeoutMs) -> 0 woken, 1 the i32 at address was not `expected`, 2 timed out
;;   timeoutMs < 0: no timeout
;;
;; It is memory.atomic.wait32 with the timeout converted from milliseconds to nanoseconds. The core never executes
;; a wait itself (assembly/host.ts says why: in V8 11.3 a wait that sleeps can corrupt the locals of a Liftoff
;; frame that runs it); here the wait is the last thing its frame does. Built into build/biasrc_wait.wasm by
;; `npm run build` (scripts/build.mjs), tested by test/embed.test.ts.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "biasrc_wait") (param $address i32) (param $expected i32) (param $timeoutMs i32) (result i32)
    (memory.atomic.wait32
      (local.get $address)
      (local.get $expected)
      (if (result i64) (i32.lt_s (local.get $timeoutMs) (i32.const 0))
        (then (i64.const -1))
        (else (i64.mul (i64.extend_i32_u (local.get $timeoutMs)) (i64.const 1000000)))))))
