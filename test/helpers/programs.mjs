// Service programs shared by tests outside test/services, for the scripts artifact's bin/.

/** Touches 8 MiB at a time up to 512 MiB, far past any test's memory limit: the kernel's OOM killer ends it. */
export const HOG = '#!/usr/bin/python3\nimport time\nb = []\nfor i in range(64):\n    b.append(b"\\x01" * (8 << 20))\n    time.sleep(0.005)\ntime.sleep(1000)\n';
