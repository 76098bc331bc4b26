{
  # The addon is Linux-only for now (futex, futex_waitv, POSIX shm, prctl): elsewhere the target
  # builds nothing, the install skips it and the process context reports ERR_PLATFORM_UNSUPPORTED.
  "targets": [
    {
      "target_name": "multiproc",
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/src/addon.cc",
            "native/src/shm.cc",
            "native/src/futex.cc",
            "native/src/waiter.cc",
            "native/src/threads.cc"
          ],
          # C++20: Node 24's V8 headers refuse anything older; Node 20's and 22's accept it.
          # -Wno-cast-function-type: NODE_MODULE_INIT's own cast, in node.h.
          "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
                        "-Wno-cast-function-type"],
          "cflags_cc!": ["-fno-exceptions"],
          "libraries": ["-lrt", "-lpthread"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
