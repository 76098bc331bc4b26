# -*- coding: utf-8 -*-
# Seed 003 (its lost indentation restored). Changed so that it does something and ends in
# reasonable time, as our twin does: `ids` holds the same 400 ids (the seed's is empty), dowork puts
# a result (the seed's does nothing), the writer stops after 10 s idle instead of 50000 x 10 ms and
# writes state.csv in a temporary directory; `input` is named `input_` (the seed shadows a builtin).
import os
import tempfile
import pandas as pd
import multiprocessing as mp
import time
from random import choice


def output(queue, i, csv_path):
    df = pd.DataFrame({}, columns=['id', 'desc'])
    itimes = 0
    while True:
        if queue.qsize() >= 1:
            result = queue.get()
            i = i + 1
            itimes = 0
            print("第%d个,%s,%s" % (i, result["id"], result["desc"]), flush=True)
            df.loc[result["id"]] = [result["id"], result["desc"]]
        else:
            if itimes > 1000:
                print("保存进程退出", flush=True)
                break
            itimes = itimes + 1
            df.to_csv(csv_path)
            time.sleep(0.01)


def input_(queue, queueresult, worker):
    itimes = 0
    while True:
        if queue.qsize() >= 1:
            itimes = 0
            id = queue.get()
            dowork(id, queueresult, worker)
        else:
            if itimes > 1000:
                break
            itimes = itimes + 1
            time.sleep(0.01)


def dowork(id, queueresult, worker):
    # 此处添加处理逻辑
    queueresult.put({"id": id, "desc": "id %d done by worker %d" % (id, worker)})


def run_multi_proc():
    ids = list(range(1000, 1400))
    mp.set_start_method(method='spawn')
    queues = []
    queueresult = mp.Queue(maxsize=3000)
    processes = []
    for w in range(20):
        queue = mp.Queue(maxsize=1000)
        queues.append(queue)
        processes.append(mp.Process(target=input_, args=(queue, queueresult, w)))
    i = 0
    csv_path = os.path.join(tempfile.mkdtemp(prefix="seed003-"), "state.csv")
    processes.append(mp.Process(target=output, args=(queueresult, i, csv_path)))
    j = 0
    for id in ids:
        q = choice(queues)
        q.put(id)
        j = j + 1
    print("写入队列个数:%d" % (j), flush=True)
    for process in processes:
        process.daemon = True
        process.start()
    for process in processes:
        process.join()
    rows = pd.read_csv(csv_path)
    print("state.csv: %d rows" % len(rows))


if __name__ == '__main__':
    run_multi_proc()
    pass
