// The kill -9 (and detect-uplink partition) fault classes of `strata chaos` for processes that are
// not a single-database Target (docs/chaos.md "spool", "federate", "uplink"):
//   spool     (spool_trial.cc)     SIGKILL strata-identify — the store-and-forward SENDER of the
//                                  identify → notify hop (notify_spool_dir) — at random points
//                                  while numbered crops flow, restart it on the same spool
//   federate  (federate_trial.cc)  SIGKILL the strata-federate cloud coordinator mid-rounds,
//                                  restart it on the same port, measure what the kill costs
//   uplink    (uplink_trial.cc)    partition detect → identify (CloudUplink spool) while crops flow
// Each returns a FaultTrial (fault_class.h) and are dispatched by RunFaultTrial.
// Thread-safety: as fault_class.h (one trial at a time).
//
//   FaultTrial t = RunSpoolTrial(0, options);  if (!t.ok()) ... t.Reason();
#pragma once

#include "fault_class.h"

namespace strata::chaos {

FaultTrial RunSpoolTrial(int trial, const ChaosOptions& options);
FaultTrial RunFederateTrial(int trial, const ChaosOptions& options);
FaultTrial RunUplinkTrial(int trial, const ChaosOptions& options);

}  // namespace strata::chaos
