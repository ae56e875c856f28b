/* MPI (OpenMPI) for the evaluator pool: rank 0 is the master, every other rank a worker.
 * The library builds without MPI too (TANDEM_HAVE_MPI undefined); then cs_mpi_init and the
 * MPI pool fail with TD_ERR_NOT_BUILT saying so. See docs/search.md. */
#ifndef CS_MPI_H
#define CS_MPI_H

#include "cs_pool.h"
#include "td_status.h"

#include <stdbool.h>

/* True when this binary was built with MPI. */
bool cs_mpi_available(void);
/* True when the environment says this process was started by mpirun/srun with more than
 * one rank (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX/SLURM variables), before any MPI call. */
bool cs_mpi_launched(void);
/* MPI_Init (threads: funneled); idempotent. */
td_status cs_mpi_init(int *argc, char ***argv);
/* MPI_Finalize when cs_mpi_init ran; idempotent. */
void cs_mpi_finalize(void);
/* Rank and size of MPI_COMM_WORLD (0 and 1 before cs_mpi_init or without MPI). */
int cs_mpi_rank(void);
int cs_mpi_size(void);

/* Used by cs_pool.c: a worker rank's serving loop, the master's hand-out loop, and the
 * message telling the workers to stop. */
td_status cs_mpi_pool_serve(cs_pool *pool);
td_status cs_mpi_pool_run(cs_pool *pool, cs_pool_job *jobs, size_t n, cs_pool_done_fn done,
                          void *done_ctx);
void cs_mpi_pool_stop(cs_pool *pool);

#endif
