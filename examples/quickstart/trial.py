"""The trial the real NNI manager runs (trialCommand): reads parameters, reports metrics."""

import nni
from objective import accuracy

params = nni.get_next_parameter()
for epoch in range(5):
    nni.report_intermediate_result(accuracy(**params, epoch=epoch))
nni.report_final_result(accuracy(**params, epoch=5))
