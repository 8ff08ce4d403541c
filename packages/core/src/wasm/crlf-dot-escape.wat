;; Gorgon: a message body made ready for a multi-line reply (POP3 RETR/TOP, NNTP ARTICLE):
;; every bare LF becomes CRLF, and a '.' that starts a line gets a second one (dot-stuffing,
;; RFC 1939 section 3, RFC 3977 section 3.1.1). Eight bytes are copied at a time up to the next
;; line feed; the line feed and the first byte of a line go one at a time.
;;
;; escape(src, len, dst) reads memory[src, src + len) and writes from dst (up to 2 * len bytes,
;; and it may scribble up to 8 bytes past the end), returning where the output ends. `state` carries across calls, so a body may come in pieces:
;; bit 0 = the next byte starts a line, bit 1 = the last byte was a CR.
;;
;; The compiled bytes are in ../crlf-dot-escape-wasm.ts: `node scripts/build-wasm.mjs`
;; regenerates them, and a test checks that they match this file.
(module
  (memory (export "memory") 1)
  (global $state (export "state") (mut i32) (i32.const 1))
  (func (export "escape") (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (local $end i32) (local $last8 i32) (local $b i32) (local $start i32) (local $prevCr i32)
    (local $v i64) (local $m i64) (local $k i32)
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (local.set $last8 (i32.sub (local.get $end) (i32.const 8)))
    (local.set $start (i32.and (global.get $state) (i32.const 1)))
    (local.set $prevCr (i32.shr_u (i32.and (global.get $state) (i32.const 2)) (i32.const 1)))
    (block $done
      (loop $next
        ;; Eight bytes at a time where no line starts. $m marks the line feeds among them
        ;; (x - 0x01.. & ~x & 0x80.. with x = v ^ 0x0a..: its lowest set bit is exact, so ctz
        ;; finds the first). All eight are stored, and dst moves past those before the first
        ;; line feed only: the bytes after it are written again. Writes may reach 8 bytes past
        ;; the output's end, which the caller leaves room for.
        (if (i32.and (i32.eqz (local.get $start)) (i32.le_s (local.get $src) (local.get $last8)))
          (then
            (local.set $v (i64.load (local.get $src)))
            (local.set $m (i64.xor (local.get $v) (i64.const 0x0a0a0a0a0a0a0a0a)))
            (local.set $m (i64.and (i64.and (i64.sub (local.get $m) (i64.const 0x0101010101010101))
                                            (i64.xor (local.get $m) (i64.const -1)))
                                   (i64.const 0x8080808080808080)))
            (i64.store (local.get $dst) (local.get $v))
            (if (i64.eqz (local.get $m))
              (then
                (local.set $src (i32.add (local.get $src) (i32.const 8)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                (local.set $prevCr (i64.eq (i64.shr_u (local.get $v) (i64.const 56)) (i64.const 13)))
                (br $next)))
            ;; k bytes before the first line feed, which the byte path below then takes
            (local.set $k (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $m)) (i64.const 3))))
            (if (local.get $k)
              (then
                (local.set $src (i32.add (local.get $src) (local.get $k)))
                (local.set $dst (i32.add (local.get $dst) (local.get $k)))
                (local.set $prevCr (i32.eq (i32.load8_u (i32.sub (local.get $src) (i32.const 1))) (i32.const 13)))))))
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (if (i32.eq (local.get $b) (i32.const 10))
          (then
            (if (i32.eqz (local.get $prevCr))
              (then (i32.store8 (local.get $dst) (i32.const 13))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 1)))))
            (i32.store8 (local.get $dst) (i32.const 10))
            (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
            (local.set $start (i32.const 1))
            (local.set $prevCr (i32.const 0))
            (br $next)))
        (if (i32.and (local.get $start) (i32.eq (local.get $b) (i32.const 46)))
          (then (i32.store8 (local.get $dst) (i32.const 46))
                (local.set $dst (i32.add (local.get $dst) (i32.const 1)))))
        (i32.store8 (local.get $dst) (local.get $b))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $start (i32.const 0))
        (local.set $prevCr (i32.eq (local.get $b) (i32.const 13)))
        (br $next)))
    (global.set $state (i32.or (local.get $start) (i32.shl (local.get $prevCr) (i32.const 1))))
    (local.get $dst)))
