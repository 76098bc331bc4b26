# Seed 000, section 3: DataServer.py, DataClient.py and the usage script, in one file so that it
# runs alone: the main program starts DataServer in a child process first (the seed runs it by
# hand in another terminal). The unused psutil check and numpy are left out.
import multiprocessing as mp
import time
from multiprocessing.managers import BaseManager, SyncManager

import pandas as pd

# ---- DataServer.py
gData = {}


class DataProxy(object):
    def __init__(self):
        pass

    def getData(self, key, default=None):
        global gData
        return gData.get(key, None)


class myManager(SyncManager):
    pass


myManager.register('DataProxy', DataProxy)


def serve(port):
    gData[1] = pd.DataFrame([[10, 6, 7, 8], [1, 9, 12, 14], [5, 8, 10, 6]], columns=['a', 'b', 'c', 'd'])
    print('Serving data. Press -c to stop.', flush=True)
    mgr = myManager(address=('', port), authkey='DataProxy01'.encode())
    server = mgr.get_server()
    server.serve_forever()


# ---- DataClient.py
class DataClient(object):
    def __init__(self, port):
        class myManager(BaseManager):
            pass
        myManager.register('DataProxy')
        self.mgr = myManager(address=('localhost', port), authkey='DataProxy01'.encode())
        self.mgr.connect()
        self.proxy = self.mgr.DataProxy()


# ---- the usage script
gProxy = None
gMode = None


def init(port, mode):
    global gProxy, gMode
    gProxy = DataClient(port).proxy
    gMode = mode
    print('Init proxy ', id(gProxy), 'in ', mp.current_process(), flush=True)


def worker(key):
    global gProxy, gMode
    if 0 == gMode:  # 从代理获取
        array = gProxy.getData(key)
        print(array, flush=True)
    elif 1 == gMode:  # 测试区别
        pass
    else:
        assert 0, 'unknown mode: %s' % gMode


if __name__ == '__main__':
    port = 5000
    server = mp.Process(target=serve, args=(port,), daemon=True)
    server.start()
    time.sleep(1)
    for mode in [1, 0]:
        for nprocs in [16, 1]:
            if 0 == mode: print('使用 client/server %d processes' % nprocs)
            if 1 == mode: print('使用 local data %d processes' % nprocs)
            pool = mp.Pool(nprocs, initializer=init, initargs=(port, mode))
            start = time.time()
            ret_data = pool.map(worker, [1], chunksize=1)
            print('took %4.3f seconds' % (time.time() - start), flush=True)
            pool.close()
            pool.join()
    server.terminate()
