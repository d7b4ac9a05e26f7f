"""vecmath: 3-vectors and small numeric kernels in compiled SPy."""
