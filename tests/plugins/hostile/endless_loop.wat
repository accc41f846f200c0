;; Hostile: `check` never returns. Stopped by fuel.
;; A component of the `plugin` world (wit/gasguard-plugin.wit) whose
;; `describe` is valid; tests/plugins.rs assembles it with `wasm-tools parse`.
(component
  (core module $m
    (memory (export "memory") 4)
    ;; The description, at 16; `describe` returns (16, 119) through the area at 0.
    (data (i32.const 16) "{\"name\":\"hostile\",\"version\":\"1.0.0\",\"rules\":[{\"code\":\"001\",\"name\":\"never\",\"severity\":\"error\",\"summary\":\"never fires\"}]}")
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      i32.const 4096)
    (func (export "describe") (result i32)
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 119))
      i32.const 0)
    (func (export "check") (param $ptr i32) (param $len i32) (result i32)
      (loop $forever (br $forever))
      unreachable)
  )
  (core instance $i (instantiate $m))
  (func $describe (result string)
    (canon lift (core func $i "describe") (memory (core memory $i "memory")) (realloc (core func $i "cabi_realloc"))))
  (func $check (param "facts" string) (result string)
    (canon lift (core func $i "check") (memory (core memory $i "memory")) (realloc (core func $i "cabi_realloc"))))
  (instance $policy (export "describe" (func $describe)) (export "check" (func $check)))
  (export "gasguard:plugin/policy@1.0.0" (instance $policy))
)
