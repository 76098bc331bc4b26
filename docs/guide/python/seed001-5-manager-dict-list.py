# Seed 001, "Manager Class" (print statements made Python 3).
from multiprocessing import Manager, Process


def f(d, l, ii):
    d[ii] = ii
    l.append(ii)


if __name__ == '__main__':
    manager = Manager()
    d = manager.dict()
    l = manager.list(range(10))
    p_list = []
    for xx in range(4):
        p_list.append(Process(target=f, args=(d, l, xx)))
    for xx in p_list:
        xx.start()
    for xx in p_list:
        xx.join()
    print(d)
    print(l)
