# bench.sh: the guest's timing (sourced by bench/vm-guest/init). timeit is
# bench/timeit.c linked statically: "WALL_S MAXRSS_KIB STATUS CPU_S".

# The devices of group G and the driver each is on now.
group_devices() {
	ls "/sys/kernel/iommu_groups/$1/devices"
}
driver_of() {
	basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null
}

# raw_move G DRIVER: what a claim (DRIVER vfio-pci) or a release (DRIVER the
# kernel driver the group had) writes, as bare shell writes: driver_override, unbind,
# bind for each device. The kernel's cost of the move, plus one busybox sh.
raw_move() {
	for d in $(group_devices "$1"); do
		if [ "$2" = vfio-pci ]; then
			echo vfio-pci >"/sys/bus/pci/devices/$d/driver_override"
		else
			echo >"/sys/bus/pci/devices/$d/driver_override"
		fi
		[ -e "/sys/bus/pci/devices/$d/driver" ] && echo "$d" >"/sys/bus/pci/devices/$d/driver/unbind"
		echo "$d" >"/sys/bus/pci/drivers/$2/bind"
	done
}

# bench_group G ROUNDS: ROUNDS of (claim, release) by iommu-own and by the
# bare writes, interleaved; one BENCH line for each timed run.
bench_group() {
	g=$1 rounds=$2
	kdrv=
	for d in $(group_devices "$g"); do
		drv=$(driver_of "$d")
		if [ -z "$drv" ] || { [ -n "$kdrv" ] && [ "$drv" != "$kdrv" ]; }; then
			echo "VMBENCH-NOTE group $g: not all on one kernel driver: skipped"
			return
		fi
		kdrv=$drv
	done
	n=$(group_devices "$g" | wc -l)
	r=0
	while [ "$r" -lt "$rounds" ]; do
		set -- $(timeit iommu-own claim "$g" --dry-run)
		echo "BENCH group=$g devices=$n op=claim who=dryrun wall=$1 cpu=$4 status=$3"
		set -- $(timeit iommu-own claim "$g")
		echo "BENCH group=$g devices=$n op=claim who=tool wall=$1 cpu=$4 status=$3"
		set -- $(timeit iommu-own release "$g" --dry-run)
		echo "BENCH group=$g devices=$n op=release who=dryrun wall=$1 cpu=$4 status=$3"
		set -- $(timeit iommu-own release "$g")
		echo "BENCH group=$g devices=$n op=release who=tool wall=$1 cpu=$4 status=$3"
		set -- $(timeit sh -c ". /vmtest/bench.sh; raw_move $g vfio-pci")
		echo "BENCH group=$g devices=$n op=claim who=writes wall=$1 cpu=$4 status=$3"
		set -- $(timeit sh -c ". /vmtest/bench.sh; raw_move $g $kdrv")
		echo "BENCH group=$g devices=$n op=release who=writes wall=$1 cpu=$4 status=$3"
		set -- $(timeit sh -c true)
		echo "BENCH group=$g devices=$n op=shell who=shell wall=$1 cpu=$4 status=$3"
		set -- $(timeit iommu-own --version)
		echo "BENCH group=$g devices=$n op=start who=start wall=$1 cpu=$4 status=$3"
		r=$((r + 1))
	done
	for d in $(group_devices "$g"); do
		echo "# $d after the rounds: $(driver_of "$d")"
	done
}
