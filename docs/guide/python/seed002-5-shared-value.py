# Seed 002, "共享變量" (its indentation repaired, `import multiprocessing` added).
import multiprocessing


def func(num):
    num.value = 10.78  # 子進程改變數值的值,主進程跟著改變


if __name__ == "__main__":
    num = multiprocessing.Value("d", 10.0)
    p = multiprocessing.Process(target=func, args=(num,))
    p.start()
    p.join()

    print(num.value)
