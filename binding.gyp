{
  "targets": [
    {
      "target_name": "multiproc",
      "sources": [
        "native/src/addon.cc",
        "native/src/shm.cc",
        "native/src/futex.cc",
        "native/src/waiter.cc",
        "native/src/threads.cc"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lrt", "-lpthread"]
    }
  ]
}
