# Seed 000, section 2 (as printed, with its lost line breaks restored).
from multiprocessing import Manager, Process
import pandas as pd
import time

df = pd.DataFrame([[10, 6, 7, 8], [1, 9, 12, 14], [5, 8, 10, 6]], columns=['a', 'b', 'c', 'd'])


def worker(ns):
    print(ns.df)
    time.sleep(1)
    print("end")


if __name__ == '__main__':  # the seed runs this at top level, which spawn refuses
    mgr = Manager()
    ns = mgr.Namespace()
    ns.df = df
    # 另一个进程
    p = Process(target=worker, args=(ns,))
    p.start()
    p.join()
