# Seed 002, "進程之間共享數據(數組型)" (as printed).
import multiprocessing


def func(num):
    num[2] = 9999  # 子進程改變數組,主進程跟著改變


if __name__ == "__main__":
    num = multiprocessing.Array("i", [1, 2, 3, 4, 5])

    p = multiprocessing.Process(target=func, args=(num,))
    p.start()
    p.join()

    print(num[:])
