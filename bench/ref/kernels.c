/* The benchmark kernels in plain C, built with gcc -O2 as the reference. */
#include <stdint.h>

int32_t add(int32_t x, int32_t y) { return x + y; }

int32_t fib(int32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

double float_loop(int32_t n) {
    double s = 0.0, dx = 1.0 / n, x = 0.5 * dx;
    for (int32_t i = 0; i < n; i++) {
        s += 4.0 / (1.0 + x * x);
        x += dx;
    }
    return s * dx;
}

/* n-body: the same operations in the same order as kernels.spy's nbody */
#include <math.h>

typedef struct {
    double x, y, z, vx, vy, vz, mass;
} Body;

#define PI 3.141592653589793
#define SOLAR_MASS (4.0 * PI * PI)
#define DAYS_PER_YEAR 365.24

static Body body(double x, double y, double z, double vx, double vy, double vz, double mass) {
    double d = DAYS_PER_YEAR;
    return (Body){x, y, z, vx * d, vy * d, vz * d, mass * SOLAR_MASS};
}

double nbody(int32_t steps) {
    Body b[5] = {
        body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        body(4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01,
             1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
             9.54791938424326609e-04),
        body(8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01,
             -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
             2.85885980666130812e-04),
        body(1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01,
             2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
             4.36624404335156298e-05),
        body(1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01,
             2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
             5.15138902046611451e-05),
    };
    double dt = 0.01;
    for (int32_t s = 0; s < steps; s++) {
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) {
                double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
                double d2 = dx * dx + dy * dy + dz * dz;
                double mag = dt / (d2 * sqrt(d2));
                double mj = b[j].mass * mag;
                b[i].vx = b[i].vx - dx * mj;
                b[i].vy = b[i].vy - dy * mj;
                b[i].vz = b[i].vz - dz * mj;
                double mi = b[i].mass * mag;
                b[j].vx = b[j].vx + dx * mi;
                b[j].vy = b[j].vy + dy * mi;
                b[j].vz = b[j].vz + dz * mi;
            }
        for (int i = 0; i < 5; i++) {
            b[i].x = b[i].x + dt * b[i].vx;
            b[i].y = b[i].y + dt * b[i].vy;
            b[i].z = b[i].z + dt * b[i].vz;
        }
    }
    double e = 0.0;
    for (int i = 0; i < 5; i++) {
        Body bi = b[i];
        e = e + 0.5 * bi.mass * (bi.vx * bi.vx + bi.vy * bi.vy + bi.vz * bi.vz);
        for (int j = i + 1; j < 5; j++) {
            double dx = bi.x - b[j].x, dy = bi.y - b[j].y, dz = bi.z - b[j].z;
            e = e - bi.mass * b[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

/* bench/arrays.py: the loop spybench/arrays.spy's dot runs */
double dot(const double *a, const double *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s = s + a[i] * b[i];
    return s;
}
