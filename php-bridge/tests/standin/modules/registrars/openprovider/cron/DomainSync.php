<?php

// STAND-IN for the Openprovider module's own DomainSync.php, for tests only: since 2024 the
// real one calls methods that no longer exist and dies before doing anything.
exit("Call to undefined method DomainSync::has_domains_to_process()\n");
