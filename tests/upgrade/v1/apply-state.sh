# shellcheck shell=bash
# apply-state.sh: rebuild, without iommu-own, a tree state described by a
# .state file of this directory (see README). Sourced by tests/hostile.sh and
# capture.sh.
#
#   v1_state ROOT FILE PHASE...   copy the fixture FILE names into ROOT (an empty
#                                 directory), then apply the steps of each PHASE
#                                 (before, done, rest) in order
# Steps are applied the way sysfs shows them (relative links both ways, a VFIO
# driver's vfio-dev/ and dev/vfio/GROUP), as the replay engine of version 1 did.

v1__dev() { # v1__dev ROOT ADDR: the device's directory (physical path)
	(cd "$1/sys/bus/pci/devices/$2" && pwd -P)
}
v1__group() { # v1__group DEVDIR: its IOMMU group number
	local g
	g=$(readlink "$1/iommu_group") || return 1
	echo "${g##*/}"
}
v1__vfio() { [[ $1 == *vfio* ]]; }

v1_step() { # v1_step ROOT FIXTURES_DIR DATA_DIR WORD ARGS...
	local root=$1 fixtures=$2 data=$3 word=$4
	shift 4
	local dev drv g a
	case $word in
	fixture) cp -a "$fixtures/$1/." "$root/" ;;
	boot_id)
		mkdir -p "$root/proc/sys/kernel/random"
		printf '%s\n' "$1" >"$root/proc/sys/kernel/random/boot_id"
		;;
	record)
		mkdir -p "$root/run" && { [ -d "$root/run/iommu-own" ] || mkdir -m 0700 "$root/run/iommu-own"; } &&
			cp "$data/$1" "$root/run/iommu-own/$2"
		;;
	override)
		dev=$(v1__dev "$root" "$1") || return 1
		printf '%s\n' "$2" >"$dev/driver_override"
		;;
	unbind)
		dev=$(v1__dev "$root" "$1") || return 1
		drv=$(readlink "$dev/driver") || return 1
		drv=${drv##*/}
		rm "$dev/driver" "$root/sys/bus/pci/drivers/$drv/$1" || return 1
		if v1__vfio "$drv"; then
			rm -rf "$dev/vfio-dev"
			g=$(v1__group "$dev")
			for a in "$root/sys/kernel/iommu_groups/$g/devices/"*; do
				v1__vfio "$(readlink "$a/driver" 2>/dev/null)" && return 0
			done
			rm -f "$root/dev/vfio/$g"
		fi
		;;
	bind)
		dev=$(v1__dev "$root" "$1") || return 1
		drv=$root/sys/bus/pci/drivers/$2
		[ -d "$drv" ] || return 1
		ln -s "$(realpath -s --relative-to="$dev" "$drv")" "$dev/driver" &&
			ln -s "$(realpath -s --relative-to="$drv" "$dev")" "$drv/$1" || return 1
		if v1__vfio "$2"; then
			g=$(v1__group "$dev")
			mkdir -p "$dev/vfio-dev/vfio0" "$root/dev/vfio" &&
				echo 511:0 >"$dev/vfio-dev/vfio0/dev" && : >"$root/dev/vfio/$g"
		fi
		;;
	*)
		echo "v1_step: unknown step '$word'" >&2
		return 1
		;;
	esac
}

v1_state() { # v1_state ROOT FILE PHASE...
	local root=$1 file=$2
	shift 2
	local data fixtures=${FIXTURES:-$TOP_SRCDIR/tests/fixtures} phase=head line want p
	data=$(dirname "$file")
	local -a words
	while IFS= read -r line; do
		case $line in
		'= '*) phase=${line#= }; continue ;;
		'' | '#'*) continue ;;
		esac
		want=no
		[ "$phase" = head ] && want=yes
		for p; do [ "$p" = "$phase" ] && want=yes; done
		[ $want = yes ] || continue
		read -ra words <<<"$line"
		v1_step "$root" "$fixtures" "$data" "${words[@]}" || {
			echo "v1_state: $file: cannot apply '$line'" >&2
			return 1
		}
	done <"$file"
}
